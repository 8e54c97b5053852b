"""Traffic shifting rehearsed locally: SAM's ``DeploymentPreference`` (CodeDeploy) run by the local engine.

SAM turns ``DeploymentPreference`` into CodeDeploy resources and ``UpdatePolicy: CodeDeployLambdaAliasUpdate`` on the
alias. On the local target the engine records the CodeDeploy resources (``engine.handlers.codedeploy``) and hands the
alias update to ``shifter.Shifter``: PreTraffic hook, RoutingConfig weights moved on the deployment config's schedule
(``schedule``) while the new version's error rate is watched (``metrics``: CloudWatch alarms replaced by a threshold),
then the final move and the PostTraffic hook. A failure raises, and the engine's stack rollback puts the alias back.
"""
