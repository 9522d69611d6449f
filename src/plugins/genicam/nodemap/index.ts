export * from './errors.js';
export { parseFormula, type Formula } from './formula.js';
export * from './node-map.js';
export { extractXml, parseXmlUrl, type XmlLocation } from './xml-url.js';
