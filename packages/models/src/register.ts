/**
 * Side-effect entry: importing `@moprune/models/register` registers every model
 * (each is defined, and so registered, when its module loads; the main entry
 * registers them too).
 */
import './registrations.js';
