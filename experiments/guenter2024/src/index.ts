export {
  type ConfigOptions,
  type Data,
  FULL,
  Guenter2024Error,
  type Guenter2024ErrorCode,
  guenterConfig,
  type Net,
  optionIssues,
  QUICK,
  type Scale,
  type Sites,
  type UserParameters,
} from './configs.js';
