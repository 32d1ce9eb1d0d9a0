// The channel view of a conv model in the analysis page: the dependency groups (a table), each
// group's channel relevance (bar charts with their data tables), the first convolution's filters as
// small grey-scale images with their relevance, and the channel what-if slider with its Save and
// Export buttons. The data shaping is protocol/channelView.ts; this module only draws and posts.
import { channelBars, filterImages, groupRows, structuredWhatifText, type FilterImage } from '../protocol/channelView';
import type { FromWebview, PanelStructured, ToWebview } from '../protocol/webview';
import { clearFigure, drawFigure } from './draw';

type Post = (m: FromWebview) => void;
type Report = (err: string | undefined) => void;
type WhatifReply = Extract<ToWebview, { type: 'whatif' }>;

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

/** Keeps the selection when still offered, else `preferred` when offered, else the first. */
function fillSelect(sel: HTMLSelectElement, values: { value: string; label: string }[], preferred?: string) {
  const prev = sel.value;
  sel.textContent = '';
  for (const v of values) sel.append(new Option(v.label, v.value));
  const offered = (x: string | undefined) => x !== undefined && values.some((v) => v.value === x);
  if (offered(prev)) sel.value = prev;
  else if (offered(preferred)) sel.value = preferred!;
}

const fmtRelevance = (r: number | null) => (r === null ? 'fixed' : r.toPrecision(3));

function filterFigure(img: FilterImage): HTMLElement {
  const fig = document.createElement('figure');
  fig.className = 'filter';
  fig.setAttribute('role', 'listitem');
  const canvas = document.createElement('canvas');
  canvas.width = img.width;
  canvas.height = img.height;
  canvas.setAttribute('role', 'img');
  canvas.setAttribute('aria-label', `filter ${img.filter}, relevance ${fmtRelevance(img.relevance)}`);
  const ctx = canvas.getContext('2d');
  if (ctx) {
    const data = ctx.createImageData(img.width, img.height);
    img.pixels.forEach((g, p) => data.data.set([g, g, g, 255], 4 * p));
    ctx.putImageData(data, 0, 0);
  }
  const cap = document.createElement('figcaption');
  cap.textContent = `#${img.filter}: ${fmtRelevance(img.relevance)}`;
  fig.append(canvas, cap);
  return fig;
}

export class ChannelView {
  private s: PanelStructured | null = null;
  private latest = -1;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly method = $<HTMLSelectElement>('channels-method');
  private readonly filterInput = $<HTMLSelectElement>('filters-input');
  private readonly share = $<HTMLInputElement>('channels-share');
  private readonly value = $('channels-value');

  constructor(
    private readonly post: Post,
    private readonly report: Report,
    private readonly nextId: () => number,
  ) {
    this.method.addEventListener('change', () => {
      void this.drawRelevance();
      this.request();
    });
    this.filterInput.addEventListener('change', () => this.drawFilters());
    this.share.addEventListener('input', () => this.request());
    $('channels-save').addEventListener('click', () => this.act('savePruned'));
    $('channels-export').addEventListener('click', () => this.act('exportStudent'));
  }

  /** Share of the removable channels the slider asks for. */
  private shareNow(): number {
    return Math.min(0.95, Math.max(0.05, Number(this.share.value)));
  }

  private act(type: 'savePruned' | 'exportStudent') {
    if (this.method.value)
      this.post({ type, method: this.method.value as never, share: this.shareNow(), structured: 'channels' });
  }

  private request() {
    const share = this.shareNow();
    const label = `${Math.round(share * 100)}% of the channels removed`;
    $('channels-share-label').textContent = `${Math.round(share * 100)}%`;
    this.share.setAttribute('aria-valuetext', label);
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      if (!this.method.value || !this.s) return;
      this.latest = this.nextId();
      this.value.classList.add('busy');
      this.post({
        type: 'whatif',
        requestId: this.latest,
        method: this.method.value as never,
        share,
        structured: 'channels',
      });
    }, 150);
  }

  /** Whether a reply (or an error) answers this slider's newest request. */
  owns(inReplyTo: number | undefined): boolean {
    return inReplyTo !== undefined && inReplyTo === this.latest;
  }

  onWhatif(m: WhatifReply) {
    if (!this.owns(m.inReplyTo) || !m.structured) return;
    this.value.classList.remove('busy');
    this.value.textContent = `${structuredWhatifText({ ...m, structured: m.structured })} in ${Math.round(m.ms)} ms`;
  }

  onError(message: string) {
    this.value.classList.remove('busy');
    this.value.textContent = message;
  }

  async show(s: PanelStructured | null) {
    // Another model: the last measurement was of the previous one.
    if (s && s.model !== this.s?.model) {
      this.latest = -1;
      this.value.classList.remove('busy');
      this.value.textContent = 'Move the slider to measure the model with whole channels removed.';
    }
    this.s = s;
    $('channels').hidden = !s;
    if (!s) return;
    const methods = Object.keys(s.relevance);
    fillSelect(
      this.method,
      methods.map((m) => ({ value: m, label: m })),
      'obd',
    );
    $('channels-summary').textContent =
      `${s.groups.length} dependency groups, ${s.removableChannels} removable channels: removing a channel removes every weight slice listed with its group.`;
    const body = $('groups').querySelector('tbody')!;
    body.textContent = '';
    for (const r of groupRows(s.groups)) {
      const tr = body.insertRow();
      for (const v of [r.id, r.producers, r.channels, r.removable, r.members, r.fixed])
        tr.insertCell().textContent = String(v);
    }
    await this.drawRelevance();
  }

  private async drawRelevance() {
    const r = this.s?.relevance[this.method.value];
    const host = $('channel-bars');
    host.textContent = '';
    if (!r) return;
    for (const g of r.groups) {
      const div = document.createElement('div');
      div.className = 'fig';
      host.append(div);
      this.report(await drawFigure(div, channelBars(g, this.method.value), { height: 240 }));
    }
    if (!r.groups.length) clearFigure(host, 'No removable channels.');
    this.drawFilters();
  }

  private drawFilters() {
    const f = this.s?.relevance[this.method.value]?.firstConv;
    const host = $('filters');
    host.textContent = '';
    if (!f) return;
    const options = [{ value: 'mean', label: 'mean over input channels' }];
    for (let c = 0; c < f.inChannels; c++) options.push({ value: String(c), label: `input channel ${c}` });
    fillSelect(this.filterInput, options);
    const input = this.filterInput.value === 'mean' ? 'mean' : Number(this.filterInput.value);
    $('filters-caption').textContent =
      `${f.layer}: ${f.filters} filters of ${f.kernelSize[0]} x ${f.kernelSize[1]}, each scaled from its smallest weight (black) to its largest (white), with its channel's ${this.method.value} relevance.`;
    for (const img of filterImages(f, input)) host.append(filterFigure(img));
  }
}
