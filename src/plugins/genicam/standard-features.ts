/** A detector parameter named after the GenICam standard (SFNC) and the features that may implement it. */
export interface StandardParameter {
  /** Parameter name (the SFNC name). */
  name: string;
  /** Feature names to look for, preferred first (older cameras use the *Abs / *Raw names). */
  features: string[];
  /** One-line description. */
  description: string;
}

/** The parameters every GenICam detector offers when its camera has the feature. */
export const STANDARD_PARAMETERS: readonly StandardParameter[] = [
  {
    name: 'ExposureTime',
    features: ['ExposureTime', 'ExposureTimeAbs'],
    description: 'exposure time',
  },
  { name: 'Gain', features: ['Gain', 'GainRaw'], description: 'analog gain' },
  { name: 'Width', features: ['Width'], description: 'image width' },
  { name: 'Height', features: ['Height'], description: 'image height' },
  {
    name: 'OffsetX',
    features: ['OffsetX'],
    description: 'horizontal offset of the region of interest',
  },
  {
    name: 'OffsetY',
    features: ['OffsetY'],
    description: 'vertical offset of the region of interest',
  },
  { name: 'BinningHorizontal', features: ['BinningHorizontal'], description: 'horizontal binning' },
  { name: 'BinningVertical', features: ['BinningVertical'], description: 'vertical binning' },
  { name: 'PixelFormat', features: ['PixelFormat'], description: 'pixel format' },
  {
    name: 'AcquisitionFrameRate',
    features: ['AcquisitionFrameRate', 'AcquisitionFrameRateAbs'],
    description: 'frame rate',
  },
  { name: 'TriggerMode', features: ['TriggerMode'], description: 'trigger mode (Off = free run)' },
];

/**
 * Features that change the payload: cameras lock them while acquiring (TLParamsLocked), so a
 * change stops acquisition, applies it and starts again.
 */
export const STREAM_SHAPING: ReadonlySet<string> = new Set([
  'Width',
  'Height',
  'OffsetX',
  'OffsetY',
  'BinningHorizontal',
  'BinningVertical',
  'PixelFormat',
]);
