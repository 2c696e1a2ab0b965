/**
 * The discovery protocol as a pure state machine: messages in, messages out, no threads, clocks or
 * I/O.
 *
 * <p>Internal: public only so that the Akka and Pekko adapters, which share this code, can use it.
 * It may change in any release; configure the library through its configuration keys instead.
 */
@Internal
package io.github.pgdiscovery.core.protocol;

import io.github.pgdiscovery.core.Internal;
