/**
 * The pgjdbc transport: LISTEN, NOTIFY with bind parameters, and the wait for notifications.
 *
 * <p>Internal: public only so that the Akka and Pekko adapters, which share this code, can use it.
 * It may change in any release; configure the library through its configuration keys instead.
 */
@Internal
package io.github.pgdiscovery.core.transport;

import io.github.pgdiscovery.core.Internal;
