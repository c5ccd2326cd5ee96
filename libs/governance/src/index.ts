// Public door of libs/governance: the directory changes of a federation's life (onboarding,
// rotation, revocation, removal), pure functions from one directory version to the next.
export * from './changes.js';
