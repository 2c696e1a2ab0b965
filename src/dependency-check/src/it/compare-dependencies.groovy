// Run after each consumer's build (from its verify.groovy; `basedir` is the consumer's cloned directory). The consumer's
// two modules resolved the same dependencies, once without our adapter (baseline) and once with it declared first
// (with-adapter); maven-dependency-plugin:list wrote each module's target/dependencies.txt.
//
// Fails when a version the baseline resolved is different with the adapter, or when the adapter brings anything
// beyond itself, the core and pgjdbc (with pgjdbc's own checker-qual).

def resolved = { String module ->
    def versions = [:]
    new File(basedir, module + '/target/dependencies.txt').eachLine { line ->
        // "   group:artifact:type[:classifier]:version -- module name"
        def coordinates = line.trim().split(' ')[0].split(':')
        if (coordinates.length >= 4) {
            versions[coordinates[0..-2].join(':')] = coordinates[-1]
        }
    }
    if (versions.isEmpty()) {
        throw new IllegalStateException(module + ' resolved nothing: the check would pass vacuously')
    }
    return versions
}

def mayBeAdded = ['io.github.pgdiscovery:', 'org.postgresql:postgresql:', 'org.checkerframework:checker-qual:']

def baseline = resolved('baseline')
def withAdapter = resolved('with-adapter')
def problems = []
baseline.each { artifact, version ->
    def now = withAdapter[artifact]
    if (now == null) {
        problems << "${artifact} ${version} is gone"
    } else if (now != version) {
        problems << "${artifact} changes from ${version} to ${now}"
    }
}
def added = withAdapter.keySet() - baseline.keySet()
added.findAll { artifact -> !mayBeAdded.any { artifact.startsWith(it) } }.each { artifact ->
    problems << "${artifact} ${withAdapter[artifact]} is new"
}

def name = basedir.name
def summary = "${name}: ${baseline.size()} artifacts resolved without the adapter, the same versions with it; " +
        "added: ${added.collect { it + ':' + withAdapter[it] }.sort().join(', ')}"
if (problems) {
    println "${name}: the adapter changes the user's dependencies:\n  " + problems.join('\n  ')
    return false
}
println summary
new File(basedir, 'summary.txt').text = summary + '\n'
return true
