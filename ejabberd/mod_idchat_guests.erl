%%% ID Chat: guests talk to the component and their own room, nothing else.
%%%
%%% Loaded on the anonymous guest host (append_host_config in ejabberd.yml).
%%% A stanza a guest sends is refused unless it is addressed to
%%%   - the guest's own account or its own server (roster, disco, ping,
%%%     presence broadcast),
%%%   - one of the `services` (the ID Chat component and the MUC service),
%%%     except a private message to a room occupant (`rooms`/Nick, type
%%%     chat, normal or headline).
%%% Everything else (agents, other guests, other domains) is answered with a
%%% policy-violation error and goes nowhere: no message, IQ or presence, and no
%%% subscription in anybody's roster. Errors and IQ results are dropped without
%%% an answer. Two hooks: user_send_packet stops the stanza in the guest's own
%%% session, before ejabberd acts on it (a subscription request would first be
%%% written to the guest's roster); filter_packet, ejabberd's router, is the
%%% second fence for anything routed with a guest as sender.
%%% ejabberd 23.01 has no configuration-only way to filter stanzas by
%%% destination (mod_block_strangers covers messages with a body only, the
%%% contributed mod_filter needs a patched ejabberd).
%%%
%%% Compiled by scripts/ejabberd_server.py (tests, demo) and ejabberd/Dockerfile.
%%% Logs nothing: guest JIDs and what they send stay out of the logs.

-module(mod_idchat_guests).

-behaviour(gen_mod).

-export([start/2, stop/1, reload/3, depends/2, mod_opt_type/1, mod_options/1, mod_doc/0]).
-export([user_send_packet/1, filter_packet/1]).

-define(BOUNCE_META, idchat_guests_bounce).
-define(PRIORITY, 25).

start(Host, _Opts) ->
    ejabberd_hooks:add(user_send_packet, Host, ?MODULE, user_send_packet, ?PRIORITY),
    ejabberd_hooks:add(filter_packet, ?MODULE, filter_packet, ?PRIORITY).

stop(Host) ->
    ejabberd_hooks:delete(user_send_packet, Host, ?MODULE, user_send_packet, ?PRIORITY),
    case gen_mod:is_loaded_elsewhere(Host, ?MODULE) of
        false -> ejabberd_hooks:delete(filter_packet, ?MODULE, filter_packet, ?PRIORITY);
        true -> ok
    end.

reload(_Host, _NewOpts, _OldOpts) ->
    ok.

depends(_Host, _Opts) ->
    [].

mod_opt_type(services) ->
    econf:list(econf:domain());
mod_opt_type(rooms) ->
    econf:domain().

mod_options(_Host) ->
    [{services, []}, {rooms, undefined}].

mod_doc() ->
    #{desc => [<<"Guests may address only their own account and server, and the "
                 "listed services; room private messages are refused.">>]}.

%% A stanza from a guest's own session, before ejabberd acts on it.
user_send_packet({Pkt, State} = Acc) ->
    case verdict(Pkt) of
        pass -> Acc;
        refuse -> bounce(Pkt), {stop, {drop, State}}
    end.

%% The router's filter: `drop` stops a stanza, anything else is routed.
filter_packet(drop) ->
    drop;
filter_packet(Pkt) ->
    case verdict(Pkt) of
        pass -> Pkt;
        refuse -> bounce(Pkt), {stop, drop}
    end.

verdict(Pkt) ->
    case xmpp:get_meta(Pkt, ?BOUNCE_META, false) of
        true -> pass;  % our own refusal on its way back to the guest
        false -> verdict(Pkt, xmpp:get_from(Pkt), xmpp:get_to(Pkt))
    end.

verdict(_Pkt, undefined, _To) ->
    pass;
verdict(_Pkt, _From, undefined) ->
    pass;  % no 'to': the guest's own account
verdict(Pkt, From, To) ->
    {FromUser, FromServer, _} = jid:tolower(From),
    case FromUser /= <<>> andalso gen_mod:is_loaded(FromServer, ?MODULE) of
        false ->
            pass;  % not sent by a guest
        true ->
            case allowed(Pkt, FromUser, FromServer, jid:tolower(To)) of
                true -> pass;
                false -> refuse
            end
    end.

allowed(_Pkt, User, Server, {User, Server, _}) ->
    true;  % the guest's own account
allowed(_Pkt, _User, Server, {<<>>, Server, _}) ->
    true;  % the guest's own server
allowed(Pkt, _User, Server, {_Room, ToServer, Nick}) ->
    Rooms = gen_mod:get_module_opt(Server, ?MODULE, rooms),
    case ToServer == Rooms andalso Nick /= <<>> andalso private_message(Pkt) of
        true -> false;
        false -> lists:member(ToServer, gen_mod:get_module_opt(Server, ?MODULE, services))
    end.

private_message(Pkt) ->
    xmpp:get_name(Pkt) == <<"message">>
        andalso lists:member(xmpp:get_type(Pkt), [chat, normal, headline]).

bounce(Pkt) ->
    case xmpp:get_type(Pkt) of
        error -> ok;
        result -> ok;
        _ ->
            Text = <<"Gasten kunnen alleen hun eigen gesprek bereiken. / "
                     "Guests can only reach their own chat.">>,
            Error = xmpp:make_error(Pkt, xmpp:err_policy_violation(Text, xmpp:get_lang(Pkt))),
            ejabberd_router:route(xmpp:put_meta(Error, ?BOUNCE_META, true))
    end.
