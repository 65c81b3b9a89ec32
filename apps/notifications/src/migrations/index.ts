import { CreateNotifications1764000000600 } from './1764000000600-CreateNotifications';
import { RemindersAndPreferences1764000000700 } from './1764000000700-RemindersAndPreferences';
import { PersonalChannels1764000000800 } from './1764000000800-PersonalChannels';
import { EndpointManagedBy1764000001820 } from './1764000001820-EndpointManagedBy';
import { DeliveryLimiterKey1764000001900 } from './1764000001900-DeliveryLimiterKey';

/** Every migration of this service, oldest first (TypeORM runs them by the timestamp in each name); tools/service-layout.spec.ts checks none is left out. */
export const MIGRATIONS = [
  CreateNotifications1764000000600,
  RemindersAndPreferences1764000000700,
  PersonalChannels1764000000800,
  EndpointManagedBy1764000001820,
  DeliveryLimiterKey1764000001900,
];
