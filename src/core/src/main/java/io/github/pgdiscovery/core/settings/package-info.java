/**
 * Validated settings, read from either toolkit's configuration with its own key names.
 *
 * <p>Internal: public only so that the Akka and Pekko adapters, which share this code, can use it.
 * It may change in any release; configure the library through its configuration keys instead.
 */
@Internal
package io.github.pgdiscovery.core.settings;

import io.github.pgdiscovery.core.Internal;
