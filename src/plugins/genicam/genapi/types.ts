/** Reads and writes device memory (GigE Vision READMEM/WRITEMEM underneath). Addresses are numbers (< 2^53). */
export interface RegisterPort {
  read(address: number, length: number): Promise<Uint8Array>;
  write(address: number, data: Uint8Array): Promise<void>;
}

/** Effective access of a feature; NA = not available now, NI = not implemented by this device. */
export type AccessMode = 'RO' | 'WO' | 'RW' | 'NA' | 'NI';

/** What getValue returns and setValue accepts. */
export type FeatureValue = number | string | boolean;

/** Feature interface type as seen by a client, whatever node type implements it. */
export type FeatureType =
  'Integer' | 'Float' | 'Boolean' | 'Enumeration' | 'Command' | 'String' | 'Register' | 'Category';

/** A snapshot of one feature for UIs and REST answers. */
export interface FeatureInfo {
  name: string;
  type: FeatureType;
  displayName?: string;
  description?: string;
  unit?: string;
  visibility?: string;
  /** Effective: takes pIsImplemented/pIsAvailable/pIsLocked into account (locked → RO). */
  access: AccessMode;
  min?: number;
  max?: number;
  inc?: number;
  /** Enumeration: symbolic names of the entries available now. */
  entries?: string[];
  /** Current value when readable. */
  value?: FeatureValue;
  /** Category: child feature names. */
  features?: string[];
}
