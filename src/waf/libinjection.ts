// placeholder replaced below
export function detectSqli(_s: string): string | null {
  return null;
}
export function detectXss(_s: string): boolean {
  return false;
}
