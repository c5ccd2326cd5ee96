// The hub end to end on SQLite (the default of nodes and hub); the scenario is in hub.scenario.ts.
import { hubScenario } from './hub.scenario.js';

hubScenario('sqlite');
