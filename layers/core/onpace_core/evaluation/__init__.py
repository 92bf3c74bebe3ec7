"""The evaluation of a program day, over any store: DynamoDB when deployed, memory for replay."""
