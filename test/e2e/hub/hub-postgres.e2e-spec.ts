// The hub end to end on PostgreSQL (each node and the hub in its own schema of the test database).
import { hubScenario } from './hub.scenario.js';

hubScenario('postgres');
