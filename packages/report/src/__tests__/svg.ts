import { DOMParser, type Element } from '@xmldom/xmldom';

/** Parses an SVG string strictly (any XML error throws) and returns its root element. */
export function parseSvg(svg: string): Element {
  const errors: string[] = [];
  const doc = new DOMParser({
    onError: (level, message) => {
      if (level !== 'warning') errors.push(message);
    },
  }).parseFromString(svg, 'image/svg+xml');
  if (errors.length > 0) throw new Error(`SVG is not well-formed: ${errors.join('; ')}`);
  const root = doc.documentElement;
  if (root === null || root.nodeName !== 'svg') throw new Error('no <svg> root');
  return root;
}

function walk(e: Element, visit: (e: Element) => void): void {
  visit(e);
  for (let i = 0; i < e.childNodes.length; i++) {
    const c = e.childNodes[i]!;
    if (c.nodeType === 1) walk(c as Element, visit);
  }
}

/** The mark group Vega renders for a named layer (`<g class="… <name>_marks">`), if any. */
export function markGroup(root: Element, layer: string): Element | undefined {
  let found: Element | undefined;
  walk(root, (e) => {
    if (
      found === undefined &&
      e.nodeName === 'g' &&
      (e.getAttribute('class') ?? '').split(' ').includes(`${layer}_marks`)
    ) {
      found = e;
    }
  });
  return found;
}

/** Number of drawn items (element children) in a layer's mark group; 0 when the group is absent. */
export function markCount(root: Element, layer: string): number {
  const g = markGroup(root, layer);
  if (g === undefined) return 0;
  let n = 0;
  for (let i = 0; i < g.childNodes.length; i++) if (g.childNodes[i]!.nodeType === 1) n++;
  return n;
}

/** Every `fill` colour used by a layer's items. */
export function markFills(root: Element, layer: string): string[] {
  const g = markGroup(root, layer);
  const out: string[] = [];
  if (g === undefined) return out;
  for (let i = 0; i < g.childNodes.length; i++) {
    const c = g.childNodes[i]!;
    if (c.nodeType === 1) out.push((c as Element).getAttribute('fill') ?? '');
  }
  return out;
}
