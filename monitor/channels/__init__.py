"""Channels: each renders a digest plan into the exact payload its service accepts.

Email (`email`, sent by `smtp`) and webhooks (`webhook` for the generic signed JSON, `slack`,
`discord`, `teams`, `mattermost`, all sent by `http`). `registry` names the webhook formats.
"""
