import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';

const nc = await connect({ servers: '127.0.0.1:4222' });
const jsm = await jetstreamManager(nc);
for (let i = 0; i < 60; i++) {
  let name = '';
  let created = '';
  for await (const s of jsm.streams.list())
    if (s.config.name.startsWith('ALLOT_BENCH_') && s.created > created) {
      name = s.config.name;
      created = s.created;
    }
  if (name) {
    for await (const c of jsm.consumers.list(name)) {
      const info = await jsm.streams.info(name);
      console.log(
        new Date().toISOString().slice(11, 19),
        name,
        c.name,
        'pending',
        c.num_pending,
        'ackpending',
        c.num_ack_pending,
        'delivered',
        c.delivered.stream_seq,
        'msgs',
        info.state.messages,
      );
    }
  }
  await new Promise((r) => setTimeout(r, 2000));
}
await nc.close();
