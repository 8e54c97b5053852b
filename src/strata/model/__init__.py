"""What both targets and every stage share about Lambda and deployed stacks, each concept defined once."""
