export { GenApiError, type GenApiErrorCode } from './errors.js';
export { parseFormula, type Formula, type FormulaOptions } from './formula.js';
export { NodeMap } from './node-map.js';
export type { AccessMode, FeatureInfo, FeatureType, FeatureValue, RegisterPort } from './types.js';
export { extractXml, parseXmlUrl, type XmlLocation } from './url.js';
