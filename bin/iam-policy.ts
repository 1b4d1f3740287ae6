/** `npm run policy -- <command>` and the package's `iam-policy` bin: see cli/policy/main.ts. */
import { main, terminalConfirm } from '../cli/policy/main.js';

const code = await main(process.argv.slice(2), {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  confirm: terminalConfirm(),
});
process.exitCode = code;
