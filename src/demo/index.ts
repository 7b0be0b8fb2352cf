import { runFullDemo } from './full';

/** `tripline demo` / `npm run demo`. */
export async function runDemo(): Promise<number> {
  return runFullDemo();
}
