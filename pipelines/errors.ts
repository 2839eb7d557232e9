// Errors a user can act on: bad input files, bad configuration. They carry the file (or field)
// and the problem in one line; the CLI prints them without a stack trace and exits 2, and
// activities turn them into non-retryable Temporal failures.
export class UserInputError extends Error {
  override readonly name = 'UserInputError';
  constructor(
    message: string,
    readonly file?: string,
  ) {
    super(file && !message.includes(file) ? `${file}: ${message}` : message);
  }
}

export function isUserInputError(e: unknown): e is UserInputError {
  return e instanceof Error && e.name === 'UserInputError';
}
