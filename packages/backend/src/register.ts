/**
 * Side-effect entry (`@moprune/backend/register`): registers moprune's
 * gradients for apps that pick the tfjs backend themselves instead of
 * calling `initBackend`. Import it after `@tensorflow/tfjs` /
 * `@tensorflow/tfjs-layers`, whose stock gradients would otherwise replace these.
 */
import { registerGradients } from './gradients/register_all.js';

registerGradients();
