package io.github.pgdiscovery.core;

import io.github.pgdiscovery.core.settings.DiscoverySettings;
import io.github.pgdiscovery.core.transport.Transport;
import java.sql.SQLException;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells, right after connecting, whether the server this connection reached can carry discovery at
 * all: a primary, reached directly or through a pooler that keeps one server session per client.
 *
 * <p>A standby says so itself ({@code pg_is_in_recovery()}). A pooler does not, and hearing one's
 * own notification proves nothing behind one: a notification sent in a transaction reaches the
 * client that sent it, whatever the pool mode. What gives a pooler away is the process id: the
 * client is handed an id of the pooler's own at start, which differs from the {@code
 * pg_backend_pid()} of the server session behind it. Only then is the pool mode tested, by what
 * tells the modes apart: in session mode this session's server process belongs to it alone, so a
 * second client gets another one, and a notification that client sends on a channel this session
 * listens on arrives here; in transaction mode the server process goes back to the pool after each
 * transaction, so the second client may be given this very process, and a notification arriving
 * while this client holds no transaction is not passed to it. A direct connection, the common case,
 * costs one query and no second connection.
 */
final class ServerCheck {

  private static final Logger log = LoggerFactory.getLogger(ServerCheck.class);

  /** Why this server cannot carry discovery, for the operator: logged once, retried slowly. */
  static final class UnsuitableServer extends Exception {
    private static final long serialVersionUID = 1L;

    /**
     * What is wrong; the message adds the details, which may differ from one attempt to the next.
     */
    enum Kind {
      STANDBY,
      TRANSACTION_POOLER
    }

    private final Kind kind;

    UnsuitableServer(Kind kind, String message) {
      super(message);
      this.kind = kind;
    }

    Kind kind() {
      return kind;
    }
  }

  private final DiscoverySettings settings;
  private final DiscoveryEngine.TransportFactory transports;

  ServerCheck(DiscoverySettings settings, DiscoveryEngine.TransportFactory transports) {
    this.settings = settings;
    this.transports = transports;
  }

  /**
   * Checks the server {@code transport} reached, before it listens on anything.
   *
   * @throws UnsuitableServer when it is a standby, or behind a pooler in transaction mode
   * @throws SQLException when the connection itself fails
   */
  void verify(Transport transport) throws UnsuitableServer, SQLException {
    Transport.Session session = transport.session();
    if (session.inRecovery()) {
      throw new UnsuitableServer(UnsuitableServer.Kind.STANDBY, standby());
    }
    if (session.processId() == transport.backendPid()) {
      return;
    }
    String evidence = poolModeEvidence(transport, session.processId());
    if (evidence != null) {
      throw new UnsuitableServer(
          UnsuitableServer.Kind.TRANSACTION_POOLER,
          transactionPooler(transport.backendPid(), evidence));
    }
  }

  /**
   * Null when a second client's notification arrives here (session mode, or a proxy), otherwise
   * what showed transaction mode. A second client that cannot connect or query in time (a full
   * pool, say) proves nothing: a warning, and the protocol's own check of hearing its probe stays.
   */
  private String poolModeEvidence(Transport transport, int serverProcess) throws SQLException {
    String channel =
        "pgd_check_" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong());
    String token = HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong());
    transport.listen(channel);
    try {
      try (Transport other = transports.open(settings)) {
        int otherProcess = other.session().processId();
        if (otherProcess == serverProcess) {
          return "a second client was given this client's server process "
              + serverProcess
              + " while this client still held its connection";
        }
        other.send(channel, token);
      } catch (SQLException | RuntimeException e) {
        log.warn(
            "PostgreSQL discovery channel {} is connected through a pooler or proxy (the server process"
                + " {} is not the {} the connection was given at start), and a second connection to test"
                + " its pool mode failed: {}. If it is a pooler in transaction mode, notifications will not"
                + " arrive and this node will say so within {}",
            settings.channel(),
            serverProcess,
            transport.backendPid(),
            e.getMessage(),
            DiscoverySettings.readable(settings.database().connectTimeout()));
        return null;
      }
      long deadline = System.nanoTime() + settings.database().connectTimeout().toNanos();
      for (long left = deadline - System.nanoTime();
          left > 0;
          left = deadline - System.nanoTime()) {
        List<String> heard =
            transport.poll((int) Math.max(1, Math.min(100, TimeUnit.NANOSECONDS.toMillis(left))));
        if (heard.contains(token)) {
          log.debug(
              "Channel {} is connected through a pooler in session mode, or a proxy: a second"
                  + " client's notification arrived",
              settings.channel());
          return null;
        }
      }
      return "a notification another client sent to this client's channel did not arrive within "
          + DiscoverySettings.readable(settings.database().connectTimeout());
    } finally {
      transport.unlisten(channel);
    }
  }

  private String standby() {
    return "PostgreSQL discovery channel "
        + settings.channel()
        + " reached a server in recovery (a hot standby or read replica) at "
        + DiscoverySettings.redactUrl(settings.database().url())
        + ": LISTEN and NOTIFY work only on the primary, so this node cannot find its peers and is"
        + " not ready. Point "
        + settings.naming().key("url")
        + " at the primary (the writer endpoint of a managed database), or list every server with"
        + " targetServerType=primary, e.g. jdbc:postgresql://db-1:5432,db-2:5432/app?targetServerType=primary."
        + retrying();
  }

  private String transactionPooler(int clientProcess, String evidence) {
    return "PostgreSQL discovery channel "
        + settings.channel()
        + " is connected through a connection pooler in transaction mode (PgBouncer, Supavisor, RDS"
        + " Proxy or alike) at "
        + DiscoverySettings.redactUrl(settings.database().url())
        + ": it lends this node's server session to other clients between transactions, so"
        + " notifications do not reach this node, which cannot find its peers and is not ready ("
        + evidence
        + "; the pooler gave this client the process id "
        + clientProcess
        + "). Point "
        + settings.naming().key("url")
        + " at the database directly, or at a pooler in session mode (PgBouncer pool_mode=session)."
        + retrying();
  }

  private String retrying() {
    return " Retrying every "
        + DiscoverySettings.readable(settings.database().reconnectMaxBackoff())
        + "; logged once.";
  }
}
