// The configuration of one scanner, as the gateway embeds it under `lanes[].scanners[]`: one zod
// schema, a discriminated union on `type`, every bound with a default and its unit in its name.
import * as z from 'zod';
import { KEYBOARD_LAYOUTS } from './keyboard-layouts.js';

export const SYMBOLOGIES = [
  'qr',
  'code128',
  'gs1-128',
  'ean-upc',
  'code39',
  'itf',
  'datamatrix',
  'pdf417',
  'aztec',
  'other',
  'unknown',
] as const;

/** A USB vendor or product id: 3118, "0c2e" or "0x0C2E" (hex as lsusb and udev print it). */
const UsbIdSchema = z
  .union([
    z.number().int().min(0).max(0xffff),
    z.string().regex(/^(0x)?[0-9a-fA-F]{1,4}$/, 'hex, e.g. "0c2e"'),
  ])
  .transform((value) => (typeof value === 'number' ? value : Number.parseInt(value.replace(/^0x/i, ''), 16)));

const common = {
  /** Stable device id reported on every scan and status event. */
  id: z.string().regex(/^[A-Za-z0-9._:-]{1,64}$/, 'letters, digits and . _ : -, at most 64'),
  /** A second read of the same code within this window (sliding) is ignored. 0 turns it off. */
  dedupeWindowMs: z.number().int().min(0).max(60_000).default(1500),
  /** Symbologies a lane accepts; absent accepts all. */
  allowedSymbologies: z.array(z.enum(SYMBOLOGIES)).min(1).optional(),
  minLength: z.number().int().min(1).max(65_536).default(4),
  maxLength: z.number().int().min(1).max(65_536).default(2048),
  /** Allow GS (0x1D), the GS1 field separator, inside a label; other control characters are rejected. */
  allowGroupSeparator: z.boolean().default(true),
  reconnectInitialDelayMs: z.number().int().min(1).max(60_000).default(250),
  reconnectMaxDelayMs: z.number().int().min(1).max(300_000).default(10_000),
  /** Device-list polling that notices unplugs nothing reported, and replugs. 0 = off. */
  presencePollMs: z.number().int().min(0).max(600_000).default(3000),
};

const selector = {
  vendorId: UsbIdSchema.optional(),
  productId: UsbIdSchema.optional(),
  serialNumber: z.string().min(1).max(256).optional(),
  path: z.string().min(1).max(4096).optional(),
};

const aimPrefix = z.enum(['auto', 'required', 'none']).default('auto');

export const SimulatedScannerConfigSchema = z.strictObject({
  type: z.literal('simulated'),
  ...common,
  suffix: z.enum(['cr', 'lf', 'crlf', 'none']).default('cr'),
});

export const SerialScannerConfigSchema = z
  .strictObject({
    type: z.literal('serial'),
    ...common,
    ...selector,
    baudRate: z.number().int().min(300).max(4_000_000).default(9600),
    suffix: z.enum(['cr', 'lf', 'crlf', 'none']).default('cr'),
    /** With suffix `none`, the silence that ends a scan. */
    interByteTimeoutMs: z.number().int().min(1).max(5000).default(50),
    maxScanBytes: z.number().int().min(16).max(65_536).default(4096),
    aimPrefix,
  })
  .refine((config) => hasSelector(config), {
    message: 'a serial scanner needs a path, or a vendorId / productId / serialNumber to find it by',
    path: ['path'],
  });

export const HidPosScannerConfigSchema = z.strictObject({
  type: z.literal('hid-pos'),
  ...common,
  ...selector,
  /** A continued scan whose next report does not come within this is dropped as truncated. */
  interReportTimeoutMs: z.number().int().min(1).max(10_000).default(100),
  maxScanBytes: z.number().int().min(56).max(65_536).default(4096),
  /** Vendor command sent after opening: `honeywell` sends feature report 0xFE=[1] (HID POS mode). */
  vendorInit: z.enum(['none', 'honeywell']).default('none'),
});

export const HidKeyboardScannerConfigSchema = z
  .strictObject({
    type: z.literal('hid-keyboard'),
    ...common,
    ...selector,
    layout: z.enum(KEYBOARD_LAYOUTS).default('us'),
    suffix: z.enum(['enter', 'tab', 'none']).default('enter'),
    /** A pause longer than this ends a scan (suffix `none`) or discards the unfinished one. */
    interKeyTimeoutMs: z.number().int().min(5).max(2000).default(100),
    /** Mean gap between keys above which the input is a person typing. */
    maxAvgKeyIntervalMs: z.number().int().min(1).max(1000).default(30),
    maxScanChars: z.number().int().min(16).max(65_536).default(2048),
    aimPrefix,
  })
  .refine(
    (config) =>
      config.vendorId !== undefined || config.serialNumber !== undefined || config.path !== undefined,
    {
      message:
        'a keyboard-wedge scanner needs a vendorId, serialNumber or path: a lane never reads an arbitrary keyboard',
      path: ['vendorId'],
    },
  );

export const ScannerConfigSchema = z.discriminatedUnion('type', [
  SimulatedScannerConfigSchema,
  SerialScannerConfigSchema,
  HidPosScannerConfigSchema,
  HidKeyboardScannerConfigSchema,
]);

export type ScannerConfig = z.output<typeof ScannerConfigSchema>;
export type ScannerConfigInput = z.input<typeof ScannerConfigSchema>;
export type SerialScannerConfig = z.output<typeof SerialScannerConfigSchema>;
export type HidPosScannerConfig = z.output<typeof HidPosScannerConfigSchema>;
export type HidKeyboardScannerConfig = z.output<typeof HidKeyboardScannerConfigSchema>;
export type SimulatedScannerConfig = z.output<typeof SimulatedScannerConfigSchema>;

function hasSelector(config: {
  path?: string;
  vendorId?: number;
  productId?: number;
  serialNumber?: string;
}): boolean {
  return (
    config.path !== undefined ||
    config.vendorId !== undefined ||
    config.productId !== undefined ||
    config.serialNumber !== undefined
  );
}
