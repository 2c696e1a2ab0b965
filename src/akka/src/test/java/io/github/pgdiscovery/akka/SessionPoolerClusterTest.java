package io.github.pgdiscovery.akka;

import static org.junit.jupiter.api.Assertions.assertEquals;

import akka.actor.ActorSystem;
import io.github.pgdiscovery.testing.DatabaseTest;
import io.github.pgdiscovery.testing.PgBouncer;
import io.github.pgdiscovery.testing.TestDatabase;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Three nodes whose discovery goes through a real PgBouncer in session mode, as behind a managed
 * provider's session pooler (Supavisor on 5432, say), form one cluster; each holds one server
 * session of the pool for its connection.
 */
@DatabaseTest
final class SessionPoolerClusterTest {

  private final TestDatabase db;
  private final AkkaNodes nodes;
  private PgBouncer pooler;

  SessionPoolerClusterTest(TestDatabase db) {
    this.db = db;
    this.nodes = new AkkaNodes(db, 3);
  }

  @AfterEach
  void stop() {
    nodes.close();
    if (pooler != null) {
      pooler.close();
    }
  }

  @Test
  void threeNodesFormOneClusterThroughASessionModePooler() throws Exception {
    pooler = PgBouncer.builder(db).poolMode(PgBouncer.PoolMode.SESSION).start();
    String overrides = "akka.discovery.postgres.url = \"" + pooler.jdbcUrl() + "\"";
    List<ActorSystem> systems =
        List.of(nodes.start(overrides), nodes.start(overrides), nodes.start(overrides));

    AkkaNodes.awaitOneCluster(systems, Duration.ofSeconds(60));
    // Each node's listening session holds a server session of its own: the pool is not shared.
    assertEquals(3, pooler.pool().orElseThrow().serversActive(), String.valueOf(pooler.pool()));
  }
}
