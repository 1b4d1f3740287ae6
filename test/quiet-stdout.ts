// Every request writes an EMF metrics line and failures a JSON log line to stdout: thousands in
// a full run. Drop those (and only those) unless IAM_TEST_OUTPUT=1; tests that assert on the
// output install their own capture on top of this one. aws-embedded-metrics writes the dimension
// values first and `_aws` later in the line, so a metrics line is recognised by its `_aws` member.
if (process.env.IAM_TEST_OUTPUT !== '1') {
  const write = process.stdout.write.bind(process.stdout) as (chunk: unknown, ...rest: unknown[]) => boolean;
  const isOurs = (chunk: string) => chunk.startsWith('{"level"') || (chunk.startsWith('{"') && chunk.includes('"_aws":{"'));
  process.stdout.write = ((chunk: unknown, ...rest: unknown[]) =>
    typeof chunk === 'string' && isOurs(chunk) ? true : write(chunk, ...rest)) as typeof process.stdout.write;
}
