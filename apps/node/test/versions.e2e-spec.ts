// Update, scope narrowed on update, and retraction, on SQLite (each node its own file).
import { versionsScenario } from './versions.scenario.js';

versionsScenario('sqlite');
