// What a register hears on GET /v1/events besides payments: its lane's scanner going away and coming back
// (`scanner`), never another lane's, and the store's mode going offline when the wallet's link is cut and back
// online when it returns (`mode`), with no operator action either way.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConfigInput } from '../gateway/config.js';
import { openRegisterEvents } from './support/register-events.js';
import { nowSec, type Stack, startStack } from './support/stack.js';
import { WalletLink } from './support/wallet-link.js';

let stack: Stack;
let link: WalletLink;

beforeAll(async () => {
  stack = await startStack({
    config: { wallet: { timeoutMs: 400, healthWindowMs: 300 } as ConfigInput['wallet'] },
    walletUrl: async (url) => {
      link = await WalletLink.open(url);
      return link.url;
    },
  });
});

afterAll(async () => {
  await stack?.close();
  await link?.close();
});

const openEvents = (register: number) => openRegisterEvents(stack, register);

describe('GET /v1/events', () => {
  it("hears its own lane's scanner unplugged and replugged, and not another lane's", async () => {
    const lane1 = await openEvents(0);
    const lane2 = await openEvents(1);
    await stack.scanner('lane-1').unplug();
    const gone = await lane1.next('scanner', (view) => view.status !== 'ready' && view.status !== 'enabled');
    expect(gone).toMatchObject({ laneId: 'lane-1' });
    await stack.scanner('lane-1').replug();
    const back = await lane1.next('scanner', (view) => view.status !== gone.status);
    expect(back).toMatchObject({ laneId: 'lane-1' });
    // lane-2's register hears lane-2 only: its own scanner's event, then nothing of lane-1's.
    await stack.scanner('lane-2').unplug();
    const own = await lane2.next('scanner');
    expect(own).toMatchObject({ laneId: 'lane-2' });
    expect(lane2.seen().filter((e) => e.type === 'scanner' && e.data.laneId !== 'lane-2')).toEqual([]);
    await stack.scanner('lane-2').replug();
    lane1.close();
    lane2.close();
  });

  it('hears the store go offline when the wallet is cut off, and online again when it is back', async () => {
    const events = await openEvents(0);
    const phone = await stack.phone(await stack.account(10_000), { enrolledAt: nowSec() - 3 * 86_400 });
    await link.cut();
    const paid = await stack.api(0, 'POST', '/v1/payments', {
      body: { amount: 100, currency: 'JPY', orderRef: 'cut', payCode: phone.nextCode(nowSec()) },
    });
    expect(paid.body.mode).toBe('offline');
    const offline = await events.next('mode', (change) => change.mode === 'offline');
    expect(offline).toMatchObject({ mode: 'offline' });
    await link.restore();
    const online = await events.next('mode', (change) => change.mode === 'online');
    expect(online).toMatchObject({ mode: 'online' });
    events.close();
  });
});
