// The rule is the same for every consumer: compare-dependencies.groovy, beside the consumers in src/it.
return evaluate(new File(comparison))
