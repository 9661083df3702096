import journal from './meta/_journal.json';
import m0000 from './0000_init.sql';
import m0001 from './0001_timers_and_outbox.sql';
import m0002 from './0002_parked_timers.sql';
import m0003 from './0003_parked_work.sql';
import m0004 from './0004_type_index_partial.sql';

  export default {
    journal,
    migrations: {
      m0000,
m0001,
m0002,
m0003,
m0004
    }
  }
  