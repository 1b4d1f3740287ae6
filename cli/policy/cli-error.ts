/** A failure the CLI reports in one message and exits 1 for (bad input, refused plan, API problem). */
export class CliError extends Error {}
