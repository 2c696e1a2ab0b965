package io.github.pgdiscovery.core.protocol;

import java.util.ArrayList;
import java.util.List;

/**
 * The one place that carries out what the protocol answers, for the engine and the simulator alike:
 * every effect in order, except that the payloads go out last and together, in one transaction, so
 * that the server wakes its listeners once for all of them and a listener hears all or none.
 */
public final class Effects {

  private Effects() {}

  /** Where effects other than sends go. */
  public interface Sink {
    void readinessChanged(boolean ready);

    void peerAdded(Announcement peer);

    void peerRemoved(Announcement peer, String why);

    void notice(Effect.Notice notice);
  }

  /**
   * Carries out every effect but the sends, in order, and returns the sends, in order, for the
   * caller to send together.
   */
  public static List<Effect.Send> carryOut(List<Effect> effects, Sink sink) {
    List<Effect.Send> sends = new ArrayList<>();
    for (Effect effect : effects) {
      if (effect instanceof Effect.Send send) {
        sends.add(send);
      } else if (effect instanceof Effect.ReadinessChanged change) {
        sink.readinessChanged(change.ready());
      } else if (effect instanceof Effect.PeerAdded added) {
        sink.peerAdded(added.peer());
      } else if (effect instanceof Effect.PeerRemoved removed) {
        sink.peerRemoved(removed.peer(), removed.why());
      } else if (effect instanceof Effect.Notice notice) {
        sink.notice(notice);
      }
    }
    return sends;
  }
}
