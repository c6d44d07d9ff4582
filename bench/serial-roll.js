// The rolling restart both cluster runners share (node-cluster.js,
// seed-cluster.js): on each call, every worker of the moment is replaced one
// after the other by `replace(old, done)`; a call during a roll is kept and
// runs once the roll has finished.
'use strict';

const cluster = require('cluster');

module.exports = function serialRoll(replace) {
  let rolling = false;
  let pending = 0;  // rolls asked for during a roll
  const roll = () => {
    if (rolling) {
      pending++;
      return;
    }
    rolling = true;
    const old = Object.values(cluster.workers);
    const step = (i) => {
      if (i === old.length) {
        rolling = false;
        console.log('roll finished');
        if (pending > 0) {
          pending--;
          roll();
        }
        return;
      }
      replace(old[i], () => step(i + 1));
    };
    step(0);
  };
  return roll;
};
