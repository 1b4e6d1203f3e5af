"""Deployment artefacts: the merged CloudFormation template and the hand-written IAM policies."""
