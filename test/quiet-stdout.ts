// Every request writes an EMF metrics line and failures a JSON log line to stdout: thousands in
// a full run. Drop those (and only those) unless IAM_TEST_OUTPUT=1; tests that assert on the
// output install their own capture on top of this one.
if (process.env.IAM_TEST_OUTPUT !== '1') {
  const write = process.stdout.write.bind(process.stdout) as (chunk: unknown, ...rest: unknown[]) => boolean;
  process.stdout.write = ((chunk: unknown, ...rest: unknown[]) =>
    typeof chunk === 'string' && (chunk.startsWith('{"_aws"') || chunk.startsWith('{"level"')) ? true : write(chunk, ...rest)) as typeof process.stdout.write;
}
