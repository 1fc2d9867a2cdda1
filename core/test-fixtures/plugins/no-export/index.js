// Exports something, but not a `plugin`.
export const somethingElse = 42;
