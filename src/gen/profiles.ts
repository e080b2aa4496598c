// Which generator a profile names: `gen` (the default data every earlier benchmark and golden
// vector uses) or `token` (token-program shapes, token.ts).
import { type Form, type Generated, type Scale, generate } from './generate.js';
import { generateToken } from './token.js';

export const PROFILES = ['gen', 'token'] as const;
export type Profile = (typeof PROFILES)[number];

export function isProfile(x: unknown): x is Profile {
  return (PROFILES as readonly unknown[]).includes(x);
}

export function generateProfile(opts: { profile: Profile; scale: Scale; seed: number; form: Form }): Generated {
  return opts.profile === 'token' ? generateToken(opts) : generate(opts);
}
