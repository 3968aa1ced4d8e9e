// The 20-digit online-only code (CONTRACT §1.2): "88" + 17 digits + a Luhn check digit.
const NUMERIC_CODE = /^88[0-9]{18}$/;

export function luhnCheckDigit(digits: string): number {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return (10 - (sum % 10)) % 10;
}

export function isNumericCode(text: string): boolean {
  return NUMERIC_CODE.test(text) && luhnCheckDigit(text.slice(0, 19)) === text.charCodeAt(19) - 48;
}

/** Makes a valid numeric code from 17 body digits (the sandbox wallet issues these). */
export function makeNumericCode(body17: string): string {
  if (!/^[0-9]{17}$/.test(body17)) throw new RangeError('a numeric code body is 17 digits');
  const head = `88${body17}`;
  return head + String(luhnCheckDigit(head));
}
