import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { GenApiError } from './errors.js';

/** One XML element with its attributes, child elements and text, in document order. */
export interface XmlElement {
  tag: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
}

/** The node elements of a device description plus its RegisterDescription attributes. */
export interface DeviceDescription {
  attrs: Record<string, string>;
  nodes: XmlElement[];
}

type Ordered = Record<string, unknown>;

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  removeNSPrefix: true,
});

function convert(item: Ordered): XmlElement | undefined {
  const tag = Object.keys(item).find((k) => k !== ':@');
  if (!tag || tag.startsWith('#') || tag.startsWith('?')) return undefined;
  const content = (item[tag] as Ordered[]) ?? [];
  const children: XmlElement[] = [];
  let text = '';
  for (const c of content) {
    if ('#text' in c) text += String(c['#text']);
    else {
      const el = convert(c);
      if (el) children.push(el);
    }
  }
  return { tag, attrs: (item[':@'] as Record<string, string>) ?? {}, children, text: text.trim() };
}

/** First child element with that tag. */
export function child(el: XmlElement, tag: string): XmlElement | undefined {
  return el.children.find((c) => c.tag === tag);
}

/** All child elements with that tag, in document order. */
export function childrenOf(el: XmlElement, tag: string): XmlElement[] {
  return el.children.filter((c) => c.tag === tag);
}

/** Text of the first child element with that tag. */
export function childText(el: XmlElement, tag: string): string | undefined {
  return child(el, tag)?.text;
}

// A StructEntry is a MaskedIntReg whose Address/Length/pPort/... come from its StructReg; giving
// it the StructReg's elements it does not redefine lets the rest of the code ignore StructReg.
function expandStructReg(structReg: XmlElement): XmlElement[] {
  const shared = structReg.children.filter((c) => c.tag !== 'StructEntry');
  return childrenOf(structReg, 'StructEntry').map((entry) => {
    const own = new Set(entry.children.map((c) => c.tag));
    const inherited = shared.filter((c) => !own.has(c.tag));
    return { ...entry, children: [...entry.children, ...inherited] };
  });
}

function collectNodes(parent: XmlElement, out: XmlElement[]): void {
  for (const el of parent.children) {
    if (el.tag === 'Group') collectNodes(el, out);
    else if (el.tag === 'StructReg') out.push(...expandStructReg(el));
    else if (el.attrs.Name !== undefined) out.push(el);
  }
}

/** Parses GenApi XML text; anything else is GenApiError('unsupported') saying what was found. */
export function parseDeviceDescription(xml: string): DeviceDescription {
  const valid = XMLValidator.validate(xml);
  if (valid !== true) {
    const { msg, line, col } = valid.err;
    throw new GenApiError(
      `Not a GenApi XML file: ${msg} (line ${line}, column ${col})`,
      'unsupported',
    );
  }
  const root = (parser.parse(xml) as Ordered[]).map(convert).find((e) => e !== undefined);
  if (root?.tag !== 'RegisterDescription') {
    const found = root ? `<${root.tag}>` : 'no element';
    throw new GenApiError(
      `Not a GenApi XML file: the root is ${found}, expected <RegisterDescription>`,
      'unsupported',
    );
  }
  const nodes: XmlElement[] = [];
  collectNodes(root, nodes);
  return { attrs: root.attrs, nodes };
}
