import { createHash, timingSafeEqual } from 'node:crypto';

export interface UserDirectory {
  /** The account id (the username) when the password matches, otherwise undefined. */
  authenticate(username: string, password: string): string | undefined;
  exists(username: string): boolean;
}

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/** Users from configuration (username -> password); comparisons take the same time whatever matches. */
export function createUserDirectory(passwords: Record<string, string>): UserDirectory {
  const users = new Map(Object.entries(passwords).map(([username, password]) => [username, digest(password)]));
  const nobody = digest('');
  return {
    authenticate(username, password) {
      const expected = users.get(username);
      const matches = timingSafeEqual(expected ?? nobody, digest(password));
      return expected !== undefined && matches ? username : undefined;
    },
    exists: (username) => users.has(username),
  };
}
