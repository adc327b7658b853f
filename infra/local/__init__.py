"""The local stack: template.yaml deployed into moto, with a gateway, scheduler and consumers."""
