// The pages' one stylesheet, inlined (a POS PC may have no internet, and the CSP allows nothing from elsewhere).
// Colours carry meaning: green online/approved, amber offline/attention, red declined/problem.
export const STYLE = `
:root { --ok: #1b7f3b; --warn: #b26a00; --bad: #b3261e; --ink: #1c1b1f; --muted: #5f6368; --line: #dadce0;
  --bg: #f4f5f7; --card: #fff; font-family: system-ui, -apple-system, "Segoe UI", "Noto Sans JP", sans-serif; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink); }
header { display: flex; align-items: center; gap: 1rem; padding: .6rem 1.2rem; background: #202124; color: #fff; }
header h1 { font-size: 1.2rem; margin: 0; flex: 1; }
header h1 span { font-weight: 400; opacity: .8; }
header form { margin: 0; }
header button { background: transparent; color: #fff; border: 1px solid #888; border-radius: 4px; padding: .3rem .7rem; cursor: pointer; }
.live { font-size: .9rem; }
.live::before { content: "●"; margin-right: .3rem; }
.live[data-state="live"]::before { color: #5bd47b; }
.live[data-state="down"]::before, .live[data-state="connecting"]::before { color: #f2b43c; }
.grid { display: grid; grid-template-columns: 1fr; gap: 1rem; padding: 1rem 1.2rem; }
@media (min-width: 960px) { .grid { grid-template-columns: repeat(3, 1fr); } }
.split { display: grid; grid-template-columns: repeat(auto-fit, minmax(300px, 1fr)); gap: .5rem 2rem; }
.panel { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: .8rem 1rem; min-width: 0; }
.panel.wide { grid-column: 1 / -1; }
.panel h2 { font-size: 1rem; margin: 0 0 .5rem; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
.panel h3 { font-size: .95rem; margin: .8rem 0 .3rem; }
.panel-body[data-health="warn"] { border-left: 4px solid var(--warn); padding-left: .6rem; }
.panel-body[data-health="bad"] { border-left: 4px solid var(--bad); padding-left: .6rem; }
.mode { display: inline-block; font-size: 2.2rem; font-weight: 700; margin: .2rem 0; padding: .1rem .8rem; border-radius: 6px; color: #fff; }
.mode-online { background: var(--ok); }
.mode-offline { background: var(--bad); }
.big { font-size: 1.7rem; font-weight: 600; margin: .3rem 0; }
.big .muted { font-size: 1rem; font-weight: 400; }
.muted { color: var(--muted); }
.alert { background: #fce8e6; color: var(--bad); border-radius: 4px; padding: .4rem .6rem; font-weight: 600; }
.tag { font-size: .75rem; background: #e8f0fe; color: #1a4fa0; border-radius: 3px; padding: 0 .3rem; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .2rem .8rem; margin: .5rem 0; }
dt { color: var(--muted); }
dd { margin: 0; }
meter { width: 100%; height: 1.2rem; }
table { border-collapse: collapse; width: 100%; font-size: .92rem; }
th, td { text-align: left; padding: .3rem .4rem; border-bottom: 1px solid var(--line); vertical-align: top; }
.num { text-align: right; font-variant-numeric: tabular-nums; }
.mono { font-family: ui-monospace, "SFMono-Regular", Menlo, monospace; font-size: .85rem; }
.badge { display: inline-block; border-radius: 10px; padding: 0 .5rem; font-size: .85rem; background: #e8eaed; }
.s-attached, .p-approved { background: #e6f4ea; color: var(--ok); }
.s-detached, .s-opening, .p-awaiting_scan, .p-authorizing { background: #fef7e0; color: var(--warn); }
.s-error, .p-declined, .p-expired { background: #fce8e6; color: var(--bad); }
.scanner-problem { color: var(--bad); }
tr.changed { animation: flash 2s ease-out; }
@keyframes flash { from { background: #fff3c4; } to { background: transparent; } }
.chart { margin: 0; }
.chart svg { width: 100%; height: auto; max-height: 260px; }
.chart .axis, .chart .count { font-size: 12px; fill: var(--muted); }
.chart .empty { font-size: 14px; fill: var(--muted); }
.chart .grid { stroke: var(--line); }
.c-online { fill: #34a853; } .c-offline { fill: #f2a600; } .c-declined { fill: #d93025; }
.legend .key::before { content: "■"; margin: 0 .25rem 0 .6rem; }
.c-online-key::before { color: #34a853; } .c-offline-key::before { color: #f2a600; } .c-declined-key::before { color: #d93025; }
.chart-summary { margin-left: 1rem; color: var(--muted); }
.narrow { max-width: 28rem; margin: 4rem auto; }
label { display: block; font-weight: 600; margin: .6rem 0 .3rem; }
input[type=password], input[type=text] { width: 100%; font-size: 1.1rem; padding: .5rem; border: 1px solid #9aa0a6; border-radius: 6px; }
button.primary { margin-top: .8rem; font-size: 1.1rem; padding: .5rem 1.2rem; background: #1a73e8; color: #fff; border: 0; border-radius: 6px; cursor: pointer; }
.error { color: var(--bad); font-weight: 600; }
/* The cashier's lane view: large type, readable from a step away. */
.lane { max-width: 44rem; margin: 0 auto; padding: 1rem; }
.lane-head { display: flex; gap: 1rem; align-items: center; font-size: 1.3rem; }
.lane-head .pill { font-size: 1.1rem; padding: .1rem .7rem; border-radius: 14px; color: #fff; background: var(--muted); }
.pill.online { background: var(--ok); } .pill.offline { background: var(--bad); }
.amount { font-size: 4rem; font-weight: 700; text-align: right; font-variant-numeric: tabular-nums; }
.keypad { display: grid; grid-template-columns: repeat(3, 1fr); gap: .5rem; margin-top: .8rem; }
.keypad button, .lane .action { font-size: 2rem; padding: .7rem; border-radius: 8px; border: 1px solid #9aa0a6; background: #fff; cursor: pointer; }
.lane .action { width: 100%; margin-top: .8rem; font-weight: 700; }
.lane .charge { background: #1a73e8; color: #fff; border: 0; }
.status-line { font-size: 3rem; font-weight: 700; margin: 1.5rem 0 .5rem; text-align: center; }
.result-approved { color: var(--ok); } .result-declined { color: var(--bad); } .result-other { color: var(--muted); }
.result-amount { font-size: 2.6rem; text-align: center; font-variant-numeric: tabular-nums; }
.result-reason { font-size: 1.8rem; text-align: center; }
.result-mode { font-size: 1.5rem; text-align: center; }
.hint { font-size: 1.4rem; text-align: center; color: var(--muted); }
`;
