// Who is signed in: the token in sessionStorage and the user /v1/me returns
// for it. Role-dependent UI asks `atLeast(role)`; the API stays the authority
// (every write may still answer 401/403, which the pages show).

import { ApiError, api, body, storeToken, storedToken } from "./api/client";
import type { Me, Role } from "./api/types";

export interface SessionUser {
  name: string;
  role: Role;
  groups: string[];
}

const ORDER: Role[] = ["reader", "contributor", "curator", "admin"];
let current: SessionUser | null = null;
const listeners = new Set<() => void>();

export function me(): SessionUser | null {
  return current;
}

export function atLeast(role: Role): boolean {
  return current !== null && ORDER.indexOf(current.role) >= ORDER.indexOf(role);
}

export function onSessionChange(f: () => void): void {
  listeners.add(f);
}

function changed(): void {
  for (const f of listeners) f();
}

/** Checks a token with /v1/me and keeps it for this browser tab; throws ApiError if the server refuses it. */
export async function signIn(token: string): Promise<SessionUser> {
  const who = await body<Me>(api.GET("/v1/me", { headers: { Authorization: `Bearer ${token}` } }));
  if (who.anonymous || who.role === "anonymous") throw new ApiError(401, "Unauthorized", "the server did not recognise this token");
  const user: SessionUser = { name: who.user, role: who.role, groups: who.groups };
  storeToken(token);
  current = user;
  changed();
  return user;
}

export function signOut(): void {
  storeToken(null);
  current = null;
  changed();
}

/** On page load: restore the session from sessionStorage (a revoked token signs out). */
export async function restoreSession(): Promise<void> {
  const token = storedToken();
  if (!token) return;
  try {
    await signIn(token);
  } catch {
    signOut();
  }
}
