// `tillgate paycode`: the sandbox phone. The first call for an account makes the device key "on the phone"
// and enrolls it at the sandbox wallet; every call shows the next PC1 code, as a phone does with no network.
import { isId } from '../paycode/pc1.js';
import { parseCommandArgs, requiredOption } from './args.js';
import { type CliIo, type Command, EXIT_OK, failure, printJson, usageError } from './command.js';
import { DEFAULT_DATA_DIR, dataDirOf, sandboxWalletOf } from './demo-file.js';

const OPTIONS = {
  account: { type: 'string' },
  data: { type: 'string' },
  wallet: { type: 'string' },
  'admin-key': { type: 'string' },
  json: { type: 'boolean' },
} as const;

export const paycodeCommand: Command = {
  name: 'paycode',
  summary: 'the sandbox phone: enroll a device if needed, print the next PC1 code',
  usage: `Usage: tillgate paycode --account ID [--data DIR] [--wallet URL --admin-key KEY] [--json]

Prints the next PC1 pay code of the account's sandbox phone (counter + 1, issued now). The first call for an
account makes a device key and enrolls it at the sandbox wallet; the phone is kept in DIR/phones/ID.json.

  --account ID     the wallet account, 16 lower-case hex characters
  --data DIR       where phones are kept, and whose demo.json names the wallet (default ./${DEFAULT_DATA_DIR})
  --wallet URL     the sandbox wallet (default: walletUrl in DIR/demo.json)
  --admin-key KEY  its sandbox admin key (default: sandboxAdminKey in DIR/demo.json)
  --json           print {code, deviceId, counter}`,
  run: runPaycode,
};

async function runPaycode(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseCommandArgs(argv, OPTIONS);
  const accountId = requiredOption(values.account, '--account');
  if (!isId(accountId)) throw usageError('--account must be 16 lower-case hex characters');
  const dataDir = dataDirOf(io, values.data);
  // The sandbox phone is imported on use: every command loads this module (see commands.ts).
  const { enrollPhone, PhoneStore } = await import('./phone-store.js');
  const store = new PhoneStore(dataDir);
  const shown = await store.exclusive(accountId, async () => {
    let state = store.load(accountId);
    if (state === null) {
      const wallet = sandboxWalletOf({ wallet: values.wallet, adminKey: values['admin-key'] }, dataDir);
      if (wallet === null) throw noWallet(dataDir);
      state = await enrollPhone(wallet, accountId);
      store.save(state);
      io.stderr.write(
        `enrolled device ${state.enrollment.deviceId} for account ${accountId} at ${wallet.url}\n`,
      );
    }
    return store.nextCode(state);
  });
  if (values.json) printJson(io, shown);
  else io.stdout.write(`${shown.code}\n`);
  return EXIT_OK;
}

function noWallet(dataDir: string) {
  return failure(
    `no sandbox wallet to enroll at: no demo.json in ${dataDir}; run \`tillgate demo\` or pass --wallet URL --admin-key KEY`,
  );
}
