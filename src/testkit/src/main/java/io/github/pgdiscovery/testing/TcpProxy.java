package io.github.pgdiscovery.testing;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A TCP forwarder on 127.0.0.1 between a client under test and the test database, to make the
 * network misbehave: {@link #stop()} refuses and cuts connections as a database that went away
 * does; {@link #silence()} keeps the open connections open but forwards nothing on them any more,
 * as a dead network path does; a proxy made with {@link #droppingNotifications} passes everything
 * but the server's asynchronous notifications, as a transaction-mode pooler does; one made with
 * {@link #delaying} holds everything for a while, as a database far away does; {@link
 * #switchTarget} points it at another server, as a DNS name or a cloud provider's writer endpoint
 * is moved to the new primary after a failover.
 */
public final class TcpProxy implements AutoCloseable {

  /** Backend message type of NotificationResponse in the PostgreSQL wire protocol. */
  private static final int NOTIFICATION_RESPONSE = 'A';

  private volatile Target target;
  private final int port;
  private final boolean dropNotifications;
  private final long latencyNanos;
  private final List<Link> links = new CopyOnWriteArrayList<>();
  private volatile ServerSocket server;

  /** A proxy to {@code targetHost:targetPort} that will listen on {@code port} once started. */
  public TcpProxy(String targetHost, int targetPort, int port) {
    this(targetHost, targetPort, port, false, Duration.ZERO);
  }

  private TcpProxy(
      String targetHost, int targetPort, int port, boolean dropNotifications, Duration latency) {
    this.target = new Target(targetHost, targetPort);
    this.port = port;
    this.dropNotifications = dropNotifications;
    this.latencyNanos = latency.toNanos();
  }

  /**
   * A proxy that drops every NotificationResponse the server sends. It parses the server's message
   * framing, so the client must not negotiate TLS or GSS encryption ({@code
   * sslmode=disable&gssEncMode=disable}).
   */
  public static TcpProxy droppingNotifications(String targetHost, int targetPort, int port) {
    return new TcpProxy(targetHost, targetPort, port, true, Duration.ZERO);
  }

  /**
   * A proxy that forwards every byte, either way, {@code latency} after it arrived, in order: a
   * round trip through it takes twice that longer. A connection closed on one side is closed on the
   * other after the delay too.
   */
  public static TcpProxy delaying(String targetHost, int targetPort, int port, Duration latency) {
    return new TcpProxy(targetHost, targetPort, port, false, latency);
  }

  public int port() {
    return port;
  }

  /**
   * This proxy's end of each connection it opened to the target, one per client connection accepted
   * since it was started, closed ones included (until {@link #stop()}). The server sees these as
   * the client address and port of the sessions opened through the proxy
   * (pg_stat_activity.client_addr and client_port).
   */
  public List<InetSocketAddress> upstreamLocalAddresses() {
    return links.stream()
        .map(link -> (InetSocketAddress) link.upstream.getLocalSocketAddress())
        .toList();
  }

  /**
   * From now on, connections accepted go to {@code targetHost:targetPort}; the ones open now are
   * closed, as the connections to the old address of a moved endpoint end (its server went away, or
   * the network path to it is torn down), and clients that connect again reach the new server. A
   * proxy made with {@link #droppingNotifications} or {@link #delaying} keeps doing so.
   */
  public void switchTarget(String targetHost, int targetPort) {
    target = new Target(targetHost, targetPort);
    for (Link link : links) {
      link.close();
    }
  }

  public static int freePort() {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new IllegalStateException("no free port", e);
    }
  }

  public synchronized void start() throws IOException {
    ServerSocket listening = new ServerSocket();
    listening.setReuseAddress(true);
    listening.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
    server = listening;
    Thread acceptor = new Thread(() -> accept(listening), "tcp-proxy-accept-" + port);
    acceptor.setDaemon(true);
    acceptor.start();
  }

  /** Refuses new connections and closes the open ones. */
  public synchronized void stop() {
    ServerSocket listening = server;
    server = null;
    closeQuietly(listening);
    for (Link link : links) {
      link.close();
    }
    links.clear();
  }

  /**
   * The connections open now stay open but carry nothing more, either way; new connections work
   * normally.
   */
  public void silence() {
    for (Link link : links) {
      link.silent = true;
    }
  }

  @Override
  public void close() {
    stop();
  }

  private void accept(ServerSocket listening) {
    while (!listening.isClosed()) {
      try {
        Socket client = listening.accept();
        Target chosen = target;
        Socket upstream;
        try {
          upstream = new Socket(chosen.host(), chosen.port());
        } catch (IOException refused) {
          closeQuietly(client);
          continue;
        }
        Link link = new Link(client, upstream);
        links.add(link);
        if (target != chosen) {
          // switchTarget ran meanwhile and may have missed this link: it belongs to the old target.
          link.close();
          continue;
        }
        if (latencyNanos > 0) {
          start(() -> link.copyDelayed(client, upstream, latencyNanos), "up");
          start(() -> link.copyDelayed(upstream, client, latencyNanos), "down");
          continue;
        }
        start(() -> link.copy(client, upstream), "up");
        start(
            () -> {
              if (dropNotifications) {
                link.copyMessagesExceptNotifications(upstream, client);
              } else {
                link.copy(upstream, client);
              }
            },
            "down");
      } catch (IOException e) {
        // Listener closed by stop().
      }
    }
  }

  private void start(Runnable pump, String direction) {
    Thread thread = new Thread(pump, "tcp-proxy-" + port + "-" + direction);
    thread.setDaemon(true);
    thread.start();
  }

  /** Where new connections go. */
  private record Target(String host, int port) {}

  /** One proxied connection: the client's socket and ours to the target. */
  private static final class Link {
    private final Socket client;
    private final Socket upstream;
    private volatile boolean silent;

    Link(Socket client, Socket upstream) {
      this.client = client;
      this.upstream = upstream;
    }

    void copy(Socket from, Socket to) {
      byte[] buffer = new byte[8192];
      try (InputStream in = from.getInputStream()) {
        OutputStream out = to.getOutputStream();
        int read;
        while ((read = in.read(buffer)) >= 0) {
          if (!silent) {
            out.write(buffer, 0, read);
            out.flush();
          }
        }
      } catch (IOException e) {
        // One side closed.
      } finally {
        closeUnlessSilent();
      }
    }

    /**
     * Forwards whole backend messages (type byte, then a length that counts itself), dropping
     * notifications.
     */
    void copyMessagesExceptNotifications(Socket from, Socket to) {
      try (DataInputStream in = new DataInputStream(from.getInputStream())) {
        OutputStream out = to.getOutputStream();
        while (true) {
          int type = in.read();
          if (type < 0) {
            throw new EOFException();
          }
          int length = in.readInt();
          byte[] body = new byte[length - 4];
          in.readFully(body);
          if (type != NOTIFICATION_RESPONSE && !silent) {
            out.write(type);
            out.write(
                new byte[] {
                  (byte) (length >>> 24),
                  (byte) (length >>> 16),
                  (byte) (length >>> 8),
                  (byte) length
                });
            out.write(body);
            out.flush();
          }
        }
      } catch (IOException e) {
        // One side closed.
      } finally {
        closeUnlessSilent();
      }
    }

    /**
     * Forwards what {@code from} sends to {@code to}, each chunk {@code delayNanos} after it was
     * read; a second thread writes, so that reading goes on meanwhile and the delay does not add
     * up.
     */
    void copyDelayed(Socket from, Socket to, long delayNanos) {
      BlockingQueue<Chunk> queue = new LinkedBlockingQueue<>();
      Thread writer =
          new Thread(() -> deliver(queue, to), Thread.currentThread().getName() + "-writer");
      writer.setDaemon(true);
      writer.start();
      byte[] buffer = new byte[8192];
      try (InputStream in = from.getInputStream()) {
        int read;
        while ((read = in.read(buffer)) >= 0) {
          queue.add(new Chunk(System.nanoTime() + delayNanos, Arrays.copyOf(buffer, read)));
        }
      } catch (IOException e) {
        // One side closed.
      } finally {
        // The writer closes the link once it has delivered what came before, so the close is
        // delayed as well.
        queue.add(new Chunk(System.nanoTime() + delayNanos, null));
      }
    }

    private void deliver(BlockingQueue<Chunk> queue, Socket to) {
      try {
        OutputStream out = to.getOutputStream();
        while (!to.isClosed()) {
          Chunk chunk = queue.poll(1, TimeUnit.SECONDS);
          if (chunk == null) {
            continue;
          }
          long wait = chunk.dueNanos() - System.nanoTime();
          if (wait > 0) {
            // The simulated distance, not a wait for a condition.
            TimeUnit.NANOSECONDS.sleep(wait);
          }
          if (chunk.bytes() == null) {
            break;
          }
          if (!silent) {
            out.write(chunk.bytes());
            out.flush();
          }
        }
      } catch (IOException e) {
        // One side closed.
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } finally {
        closeUnlessSilent();
      }
    }

    /** Bytes read at one time and when to write them; no bytes: the sending side closed. */
    private record Chunk(long dueNanos, byte[] bytes) {}

    private void closeUnlessSilent() {
      if (!silent) {
        close();
      }
    }

    void close() {
      closeQuietly(client);
      closeQuietly(upstream);
    }
  }

  private static void closeQuietly(AutoCloseable closeable) {
    if (closeable == null) {
      return;
    }
    try {
      closeable.close();
    } catch (Exception ignored) {
      // Already closed.
    }
  }
}
