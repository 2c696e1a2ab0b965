package io.github.pgdiscovery.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A TCP forwarder on 127.0.0.1 between a client under test and the test database, to make the network misbehave:
 * {@link #stop()} refuses and cuts connections as a database that went away does; {@link #silence()} keeps every
 * connection open but forwards nothing, as a dead network path does.
 */
public final class TcpProxy implements AutoCloseable {

  private final String targetHost;
  private final int targetPort;
  private final int port;
  private final List<Socket> sockets = new CopyOnWriteArrayList<>();
  private volatile ServerSocket server;
  private volatile boolean silent;

  /** A proxy to {@code targetHost:targetPort} that will listen on {@code port} once started. */
  public TcpProxy(String targetHost, int targetPort, int port) {
    this.targetHost = targetHost;
    this.targetPort = targetPort;
    this.port = port;
  }

  public int port() {
    return port;
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
    silent = false;
    Thread acceptor = new Thread(() -> accept(listening), "tcp-proxy-accept-" + port);
    acceptor.setDaemon(true);
    acceptor.start();
  }

  /** Refuses new connections and closes the open ones. */
  public synchronized void stop() {
    ServerSocket listening = server;
    server = null;
    closeQuietly(listening);
    for (Socket socket : sockets) {
      closeQuietly(socket);
    }
    sockets.clear();
  }

  /** Keeps connections open but drops every byte in both directions. */
  public void silence() {
    silent = true;
  }

  @Override
  public void close() {
    stop();
  }

  private void accept(ServerSocket listening) {
    while (!listening.isClosed()) {
      try {
        Socket client = listening.accept();
        Socket upstream = new Socket(targetHost, targetPort);
        sockets.add(client);
        sockets.add(upstream);
        pump(client, upstream);
        pump(upstream, client);
      } catch (IOException e) {
        // Listener closed by stop(), or the target refused: the client sees its connection closed.
      }
    }
  }

  private void pump(Socket from, Socket to) {
    Thread thread =
        new Thread(
            () -> {
              byte[] buffer = new byte[8192];
              try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                int read;
                while ((read = in.read(buffer)) >= 0) {
                  if (!silent) {
                    out.write(buffer, 0, read);
                    out.flush();
                  }
                }
              } catch (IOException e) {
                // One side closed; close the other below.
              } finally {
                if (!silent) {
                  closeQuietly(from);
                  closeQuietly(to);
                }
              }
            },
            "tcp-proxy-pump-" + port);
    thread.setDaemon(true);
    thread.start();
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
