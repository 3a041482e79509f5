"""What the channels part registers: the `channels` program section and the member page's
"消息" panel."""


def register() -> None:
    from patron.campaigns import channel_program, inbox_panel

    channel_program.register()
    inbox_panel.register()
