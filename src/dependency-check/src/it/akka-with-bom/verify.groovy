// The rule is the same for every consumer: ../compare-dependencies.groovy
return evaluate(new File(basedir, "../compare-dependencies.groovy"))
