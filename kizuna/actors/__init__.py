"""Our actors as others see them: actor documents, collections and the objects they serve."""
