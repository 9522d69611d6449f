import { XMLParser } from 'fast-xml-parser';
import { GenApiError } from './errors.js';

/** One XML element: its attributes, its text, and its child elements by tag. */
export interface XmlElement {
  /** Element tag, e.g. Integer. */
  tag: string;
  /** Attributes (Name, NameSpace…). */
  attrs: Record<string, string>;
  /** Text content ('' when none). */
  text: string;
  /** Child elements by tag, in document order. */
  children: Record<string, XmlElement[]>;
}

/** The nodes of a GenApi description, by name, and the root's attributes. */
export interface GenApiDocument {
  /** RegisterDescription attributes (ModelName, VendorName, SchemaMajorVersion…). */
  root: Record<string, string>;
  /** Every node element by its Name. */
  nodes: Map<string, XmlElement>;
}

type Raw = Record<string, unknown>;

function toElement(tag: string, raw: unknown): XmlElement {
  const el: XmlElement = { tag, attrs: {}, text: '', children: {} };
  if (typeof raw !== 'object' || raw === null) {
    el.text = raw === undefined || raw === null ? '' : String(raw).trim();
    return el;
  }
  for (const [key, value] of Object.entries(raw as Raw)) {
    if (key.startsWith('@')) el.attrs[key.slice(1)] = String(value);
    else if (key === '#text') el.text = String(value).trim();
    else el.children[key] = (value as unknown[]).map((v) => toElement(key, v));
  }
  return el;
}

/** Parses GenApi XML; node elements inside Group elements count as top-level nodes. */
export function parseGenApiXml(xml: string): GenApiDocument {
  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '@',
    removeNSPrefix: true,
    parseTagValue: false,
    parseAttributeValue: false,
    isArray: (_name, _path, _leaf, isAttribute) => !isAttribute,
  });
  let parsed: Raw;
  try {
    parsed = parser.parse(xml) as Raw;
  } catch (err) {
    throw new GenApiError(
      `the GenICam XML does not parse: ${(err as Error).message}`,
      'unsupported',
    );
  }
  const rootRaw = (parsed.RegisterDescription as unknown[] | undefined)?.[0];
  if (!rootRaw)
    throw new GenApiError(
      'the XML is not a GenICam description (no RegisterDescription element)',
      'unsupported',
    );
  const root = toElement('RegisterDescription', rootRaw);
  const nodes = new Map<string, XmlElement>();
  const collect = (el: XmlElement) => {
    for (const [tag, list] of Object.entries(el.children)) {
      for (const child of list) {
        if (tag === 'Group') collect(child);
        else if (tag === 'StructReg') {
          // Each StructEntry is a masked register that shares the StructReg's address and port.
          const shared = { ...child.children };
          delete shared.StructEntry;
          for (const entry of child.children.StructEntry ?? [])
            nodes.set(entry.attrs.Name!, { ...entry, children: { ...shared, ...entry.children } });
        } else if (child.attrs.Name) nodes.set(child.attrs.Name, child);
      }
    }
  };
  collect(root);
  return { root: root.attrs, nodes };
}

/** Text of the first child with that tag, if any. */
export function childText(el: XmlElement, tag: string): string | undefined {
  return el.children[tag]?.[0]?.text;
}

/** Every child with that tag. */
export function childList(el: XmlElement, tag: string): XmlElement[] {
  return el.children[tag] ?? [];
}

/** A GenApi number: decimal, hex (0x…), or floating point. */
export function parseNumber(text: string): number {
  const t = text.trim();
  const n = /^[+-]?0x/i.test(t) ? parseInt(t, 16) : Number(t);
  if (!Number.isFinite(n)) throw new GenApiError(`'${text}' is not a number`, 'invalid-value');
  return n;
}
